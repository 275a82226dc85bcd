#include <dlfcn.h>
#include <stdio.h>
#include <histedit.h>

// libedit is opened when `mira chat` starts, not linked: a one-turn `mira`
// then loads neither it nor libbsd, libmd and libtinfo, whose symbol
// binding was about an eighth of a turn's CPU time (measured with
// callgrind). el_set, el_get and history are variadic, which Swift cannot
// call: the wrappers below fix the argument types for the few operations
// the chat uses.
typedef char *(*mira_el_prompt_fn)(EditLine *);

struct mira_editline {
    EditLine *(*el_init)(const char *, FILE *, FILE *, FILE *);
    void (*el_end)(EditLine *);
    const char *(*el_gets)(EditLine *, int *);
    int (*el_set)(EditLine *, int, ...);
    int (*el_get)(EditLine *, int, ...);
    int (*el_source)(EditLine *, const char *);
    History *(*history_init)(void);
    void (*history_end)(History *);
    int (*history)(History *, HistEvent *, int, ...);
};

// Fills `api` from libedit.so.2; 0 when every function is there, -1 when
// the library or a function cannot be loaded. The table is the caller's:
// a header cannot hold one shared table (the static of a static inline
// function is copied into each object file the compiler splits a module into).
static inline int mira_editline_open(struct mira_editline *api) {
    void *lib = dlopen("libedit.so.2", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) return -1;
    *(void **)&api->el_init = dlsym(lib, "el_init");
    *(void **)&api->el_end = dlsym(lib, "el_end");
    *(void **)&api->el_gets = dlsym(lib, "el_gets");
    *(void **)&api->el_set = dlsym(lib, "el_set");
    *(void **)&api->el_get = dlsym(lib, "el_get");
    *(void **)&api->el_source = dlsym(lib, "el_source");
    *(void **)&api->history_init = dlsym(lib, "history_init");
    *(void **)&api->history_end = dlsym(lib, "history_end");
    *(void **)&api->history = dlsym(lib, "history");
    if (!api->el_init || !api->el_end || !api->el_gets || !api->el_set || !api->el_get || !api->el_source
        || !api->history_init || !api->history_end || !api->history) {
        return -1;
    }
    return 0;
}

// On the process's standard streams (Swift sees stdin and friends as shared
// mutable globals).
static inline EditLine *mira_el_init(const struct mira_editline *api, const char *program) {
    return api->el_init(program, stdin, stdout, stderr);
}
static inline void mira_el_end(const struct mira_editline *api, EditLine *e) { api->el_end(e); }
static inline const char *mira_el_gets(const struct mira_editline *api, EditLine *e, int *count) { return api->el_gets(e, count); }
static inline int mira_el_source(const struct mira_editline *api, EditLine *e, const char *file) { return api->el_source(e, file); }
static inline int mira_el_set_prompt(const struct mira_editline *api, EditLine *e, mira_el_prompt_fn f) {
    return api->el_set(e, EL_PROMPT, f);
}
static inline int mira_el_set_editor(const struct mira_editline *api, EditLine *e, const char *mode) {
    return api->el_set(e, EL_EDITOR, mode);
}
// Off: libedit then installs no signal handlers of its own, so Ctrl-C at the
// prompt interrupts el_gets (it returns NULL) and the chat decides what it means.
static inline int mira_el_set_signal(const struct mira_editline *api, EditLine *e, int on) {
    return api->el_set(e, EL_SIGNAL, on);
}
static inline int mira_el_set_history(const struct mira_editline *api, EditLine *e, History *h) {
    return api->el_set(e, EL_HIST, api->history, h);
}
static inline History *mira_history_init(const struct mira_editline *api) { return api->history_init(); }
static inline void mira_history_end(const struct mira_editline *api, History *h) { api->history_end(h); }
static inline int mira_history_set_size(const struct mira_editline *api, History *h, int size) {
    HistEvent ev;
    return api->history(h, &ev, H_SETSIZE, size);
}
static inline int mira_history_set_unique(const struct mira_editline *api, History *h, int unique) {
    HistEvent ev;
    return api->history(h, &ev, H_SETUNIQUE, unique);
}
static inline int mira_history_enter(const struct mira_editline *api, History *h, const char *line) {
    HistEvent ev;
    return api->history(h, &ev, H_ENTER, line);
}
static inline int mira_history_load(const struct mira_editline *api, History *h, const char *path) {
    HistEvent ev;
    return api->history(h, &ev, H_LOAD, path);
}
static inline int mira_history_save(const struct mira_editline *api, History *h, const char *path) {
    HistEvent ev;
    return api->history(h, &ev, H_SAVE, path);
}
