#include <stdio.h>
#include <histedit.h>

// el_set, el_get and history are variadic, which Swift cannot call: these
// wrappers fix the argument types for the few operations `mira chat` uses.
typedef char *(*mira_el_prompt_fn)(EditLine *);

static inline int mira_el_set_prompt(EditLine *e, mira_el_prompt_fn f) {
    return el_set(e, EL_PROMPT, f);
}
static inline int mira_el_set_editor(EditLine *e, const char *mode) {
    return el_set(e, EL_EDITOR, mode);
}
// Off: libedit then installs no signal handlers of its own, so Ctrl-C at the
// prompt interrupts el_gets (it returns NULL) and the chat decides what it means.
static inline int mira_el_set_signal(EditLine *e, int on) {
    return el_set(e, EL_SIGNAL, on);
}
static inline int mira_el_set_history(EditLine *e, History *h) {
    return el_set(e, EL_HIST, history, h);
}
static inline int mira_el_set_clientdata(EditLine *e, void *data) {
    return el_set(e, EL_CLIENTDATA, data);
}
static inline void *mira_el_get_clientdata(EditLine *e) {
    void *data = NULL;
    el_get(e, EL_CLIENTDATA, &data);
    return data;
}
static inline int mira_history_set_size(History *h, int size) {
    HistEvent ev;
    return history(h, &ev, H_SETSIZE, size);
}
static inline int mira_history_set_unique(History *h, int unique) {
    HistEvent ev;
    return history(h, &ev, H_SETUNIQUE, unique);
}
static inline int mira_history_enter(History *h, const char *line) {
    HistEvent ev;
    return history(h, &ev, H_ENTER, line);
}
static inline int mira_history_load(History *h, const char *path) {
    HistEvent ev;
    return history(h, &ev, H_LOAD, path);
}
static inline int mira_history_save(History *h, const char *path) {
    HistEvent ev;
    return history(h, &ev, H_SAVE, path);
}
// On the process's standard streams (Swift sees stdin and friends as shared
// mutable globals).
static inline EditLine *mira_el_init(const char *program) {
    return el_init(program, stdin, stdout, stderr);
}
