"""Entity lists for offline follow-up: intake creates a participant, follow-up forms read and update it.

Modules, from pure to I/O:
* `actions` — what a submission's `meta/entity` block asks for (pure);
* `formats` — the list as CSV, the integrity document, OData rows (pure);
* `lists` — lists and properties, learned from published forms; the change token;
* `store` — entity create/update/delete with baseVersion and recorded conflicts;
* `intake` — submissions to entity changes, and the queue of encrypted ones
  that wait for a custodian's unlock.
"""
