// SwiftPM drops pkg-config's -D flags, so the wide-character API must be switched on here.
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <ncursesw/curses.h>
#include <locale.h>

// Macros and globals Swift cannot import (or rejects under strict concurrency).
static inline WINDOW *spt_stdscr(void) { return stdscr; }
static inline int spt_max_y(WINDOW *w) { int y, x; getmaxyx(w, y, x); (void)x; return y; }
static inline int spt_max_x(WINDOW *w) { int y, x; getmaxyx(w, y, x); (void)y; return x; }
static inline attr_t spt_a_bold(void) { return A_BOLD; }
static inline attr_t spt_a_reverse(void) { return A_REVERSE; }
static inline attr_t spt_a_dim(void) { return A_DIM; }
static inline attr_t spt_a_underline(void) { return A_UNDERLINE; }
static inline attr_t spt_a_normal(void) { return A_NORMAL; }
static inline int spt_set_escdelay(int ms) { return set_escdelay(ms); }
static inline int spt_key_resize(void) { return KEY_RESIZE; }

// Draws one wide-character cell with attributes and an extended colour pair (passed through
// the opts pointer, as ncurses documents for pairs beyond 32767).
static inline int spt_put_cell(int y, int x, const wchar_t *chars, attr_t attrs, int *pair) {
    cchar_t c;
    setcchar(&c, chars, attrs, 0, pair);
    return mvadd_wch(y, x, &c);
}
static inline int spt_colors(void) { return COLORS; }
static inline int spt_color_pairs(void) { return COLOR_PAIRS; }

