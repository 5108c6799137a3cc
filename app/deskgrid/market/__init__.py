"""Third-party apps on the marketplace: their manifests, publishing them on the hub and reading
them back (Qt-free)."""
