"""The kiosk's JSON API (``/kiosk/v1``): the door of a branch books walk-ins and checks
in appointments, with the company's public key."""
