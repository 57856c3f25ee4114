// PLACEHOLDER: replaced by the SQLite store work.
