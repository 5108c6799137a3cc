"""The Qt-free services the desktop app composes: the backends it runs on (demo, local node,
network), the wallet session and its followers, the jobs market, the event bus, the settings
file and start-at-login. The UI only talks to these."""
