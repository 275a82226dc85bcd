#define _GNU_SOURCE
#include <spawn.h>
#include "CSpawn.h"

int mira_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

const short mira_spawn_new_session = POSIX_SPAWN_SETSID;
