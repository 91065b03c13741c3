"""Real-browser tests of the organizer-side screens (kiosk/): kiosk mode, stall mode, dashboard."""
