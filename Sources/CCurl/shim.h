#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot
// call: these wrappers fix the argument type for each kind of option.
typedef size_t (*mira_curl_data_cb)(char *, size_t, size_t, void *);
typedef int (*mira_curl_xfer_cb)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t);

static inline CURLcode mira_curl_set_long(CURL *h, CURLoption o, long v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode mira_curl_set_ptr(CURL *h, CURLoption o, const void *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode mira_curl_set_off(CURL *h, CURLoption o, curl_off_t v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode mira_curl_set_data_cb(CURL *h, CURLoption o, mira_curl_data_cb f) {
    return curl_easy_setopt(h, o, f);
}
static inline CURLcode mira_curl_set_xfer_cb(CURL *h, CURLoption o, mira_curl_xfer_cb f) {
    return curl_easy_setopt(h, o, f);
}
static inline CURLcode mira_curl_get_long(CURL *h, CURLINFO i, long *v) {
    return curl_easy_getinfo(h, i, v);
}
