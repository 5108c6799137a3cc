"""Cryptography of the requester's data: results (and inputs) encrypted to a wallet's key."""
