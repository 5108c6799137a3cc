"""The desktop-grid server: jobs, leases, replication and votes, content-addressed data.

The core (`store`, `scheduler`, `voting`) knows nothing of HTTP; `api` serves it over
FastAPI, `server` runs that inside any asyncio loop, and `client` is the typed HTTP client
used by the oracle, the workers and the GUI. The grid reads the chain only for stakes
(`stakes`) and the published apps it serves (`chain_catalog`).
"""
