"""VanityGen: find a Bitcoin P2PKH address that starts with a chosen pattern.

`pattern` validates prefixes and turns them into numeric hash160 ranges, `search` is the hot
loop (batch point arithmetic from `secp256k1`, no base58 inside), `splitkey` lets a requester
have the search done without the worker ever learning the final key, and `app` exposes it all
as a DeskGrid app.
"""
