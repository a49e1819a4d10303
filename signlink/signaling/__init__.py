"""The call relay: typed WebSocket messages, the cross-process bus, presence (the check lives in check/)."""
