"""The proving ground: simulated Windows nodes behind real WS-Management endpoints."""
