"""What a kiosk at a branch's door needs: the walk-in services open now with their
queues, and today's appointments found by the number on the customer's slip."""
