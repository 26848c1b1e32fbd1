"""Models of this app arrive with its issue; the app is registered so that it migrates from the start."""
