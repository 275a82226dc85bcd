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

// The one table of libedit's functions (a function's static: a header
// cannot define a global that every includer shares).
static inline struct mira_editline *mira_editline(void) {
    static struct mira_editline api;
    return &api;
}

// Opens libedit once; 0 when it is there, -1 when it cannot be loaded.
static inline int mira_editline_open(void) {
    static int state = 0;  // 0 not tried, 1 open, -1 failed
    if (state != 0) return state == 1 ? 0 : -1;
    void *lib = dlopen("libedit.so.2", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) { state = -1; return -1; }
    struct mira_editline *api = mira_editline();
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
        state = -1;
        return -1;
    }
    state = 1;
    return 0;
}

// On the process's standard streams (Swift sees stdin and friends as shared
// mutable globals).
static inline EditLine *mira_el_init(const char *program) {
    return mira_editline()->el_init(program, stdin, stdout, stderr);
}
static inline void mira_el_end(EditLine *e) { mira_editline()->el_end(e); }
static inline const char *mira_el_gets(EditLine *e, int *count) { return mira_editline()->el_gets(e, count); }
static inline int mira_el_source(EditLine *e, const char *file) { return mira_editline()->el_source(e, file); }
static inline int mira_el_set_prompt(EditLine *e, mira_el_prompt_fn f) {
    return mira_editline()->el_set(e, EL_PROMPT, f);
}
static inline int mira_el_set_editor(EditLine *e, const char *mode) {
    return mira_editline()->el_set(e, EL_EDITOR, mode);
}
// Off: libedit then installs no signal handlers of its own, so Ctrl-C at the
// prompt interrupts el_gets (it returns NULL) and the chat decides what it means.
static inline int mira_el_set_signal(EditLine *e, int on) {
    return mira_editline()->el_set(e, EL_SIGNAL, on);
}
static inline int mira_el_set_history(EditLine *e, History *h) {
    return mira_editline()->el_set(e, EL_HIST, mira_editline()->history, h);
}
static inline int mira_el_set_clientdata(EditLine *e, void *data) {
    return mira_editline()->el_set(e, EL_CLIENTDATA, data);
}
static inline void *mira_el_get_clientdata(EditLine *e) {
    void *data = NULL;
    mira_editline()->el_get(e, EL_CLIENTDATA, &data);
    return data;
}
static inline History *mira_history_init(void) { return mira_editline()->history_init(); }
static inline void mira_history_end(History *h) { mira_editline()->history_end(h); }
static inline int mira_history_set_size(History *h, int size) {
    HistEvent ev;
    return mira_editline()->history(h, &ev, H_SETSIZE, size);
}
static inline int mira_history_set_unique(History *h, int unique) {
    HistEvent ev;
    return mira_editline()->history(h, &ev, H_SETUNIQUE, unique);
}
static inline int mira_history_enter(History *h, const char *line) {
    HistEvent ev;
    return mira_editline()->history(h, &ev, H_ENTER, line);
}
static inline int mira_history_load(History *h, const char *path) {
    HistEvent ev;
    return mira_editline()->history(h, &ev, H_LOAD, path);
}
static inline int mira_history_save(History *h, const char *path) {
    HistEvent ev;
    return mira_editline()->history(h, &ev, H_SAVE, path);
}
