/* The web chat page served at GET /, embedded in the binary. */
#ifndef LK_SERVER_WEB_PAGE_H
#define LK_SERVER_WEB_PAGE_H

#include <stddef.h>

/* The page (HTML, UTF-8) and its length; static storage. */
const char *srv_web_page(size_t *len);

#endif
