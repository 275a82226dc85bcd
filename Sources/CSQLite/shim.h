#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro Swift cannot import: SQLite copies the bytes.
static inline sqlite3_destructor_type mira_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}
