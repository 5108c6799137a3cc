"""The local node: chain, grid server, oracle and workers in one process (`local`), run as the
desktop app's child process (`process`, reporting with `info`), from the command line
(`commands`), the requester's side of a task (`requester`) and `deskgrid --self-test`."""
