"""Apps: the SDK an app is written against, DeskGrid's own apps, and how a job runs one."""

# The frozen program's hidden entry that runs one app job (`deskgrid --run-app APP ...`); what
# the worker's native runner starts in a frozen build instead of `python -m deskgrid.apps.run`.
RUN_APP_FLAG = "--run-app"
