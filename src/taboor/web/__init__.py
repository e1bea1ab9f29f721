"""The people's screens served by Taboor itself: staff console, hall display, kiosk."""
