#include <spawn.h>

// glibc's posix_spawn extensions that Swift's Glibc module leaves out
// (they are declared only under _GNU_SOURCE): spawn.c is built with it.

/// Adds to `actions`: close every descriptor from `lowest` up in the child,
/// so it holds none of its parent's files or pipes but those it was given.
int mira_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

/// POSIX_SPAWN_SETSID: the child starts a session of its own.
extern const short mira_spawn_new_session;
