"""All of SAMEN's cryptography, sealed in one pure package.

`envelope` parses the ODK encrypted-submission envelope, `keys` creates,
wraps and imports project keys, `decrypt` opens one submission inside a
closure that holds the private key, `offline` replays that over a folder
(our Briefcase replacement), and `scratch` seals an export's scratch files
under a key that lives only in memory. Nothing here touches the database,
Flask or the network; only `offline` touches files, and only the ones it is
told to.
"""
