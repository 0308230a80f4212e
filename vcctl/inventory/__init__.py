"""The inventory: what vcctl created or saw, kept in a local SQLite file, so that resources can
be found again and creates with a key are safe to repeat.

This package is the store only; commands decide when to use it (and respect the off switch,
`inventory_enabled`). All its SQL lives in `vcctl/inventory/store/`; no other module writes SQL.
A plain package: callers import the module that holds what they use (`records` for accounts,
paths and the off switch, `store` for `Inventory`, `claims`, `when`), so a run with the
inventory off never loads sqlite3. The API:

- `inventory_path(env) -> Path`: `inventory.sqlite3` in VCCTL_DATA_DIR or platformdirs' user data
  folder. `inventory_enabled(env, profile) -> bool`: VCCTL_INVENTORY=off or `inventory = false`.
- `account_for(base_url, api_key) -> Account(base_url, key_fingerprint)`: records belong to an
  account; the key is stored only as a hash prefix.
- `Inventory.open(path) -> Inventory` (a context manager; `close()`): creates the file 0600 in a
  0700 folder, migrates an older schema; raises InventoryError (exit 2, with `.path`) for a newer,
  unreadable or unwritable file, which it never modifies.
- `inv.record(account, kind, resource, *, key=None) -> Record` and
  `inv.record_many(account, kind, resources, *, keys=None) -> list[Record]` (one transaction).
- `inv.mark_gone(account, kind, id) -> bool` (a room's participants go with it).
- `inv.list_records(account | None, kind, *, name_glob=None, created_before=None,
  created_after=None, include_gone=False, room_id=None, with_participants=False)
  -> list[Record]`, newest first.
- Keys: the key protocol (`vcctl.inventory.claims`: `claim(store, KeyRef(account, kind, scope,
  key)) -> Claim | Record`, a Claim resolved by `created(resource)`, `failed()` or `unknown()`;
  `adopt`, `release`) on any store of `vcctl.inventory.backend.InventoryStore`; the scopes in
  `vcctl.inventory.scopes`; `inv.list_keys(account, ...)`, `inv.forget_keys(account, rows)`,
  `inv.forget_scope(account, kind, scope)`, `inv.forget_ids(account, ids) -> list[str]`.
- `parse_when(text) -> datetime` for --created-before/--created-after (UsageError if invalid).

`kind` is "room" or "participant"; a participant's key scope is its room id, a stack's keys
`stack:NAME` (its participants' `stack:NAME/ROOMKEY`).
"""
