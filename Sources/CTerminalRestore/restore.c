// A crash while the dashboard is up must not leave the terminal raw and on curses' screen: the
// handler below runs first, with async-signal-safe calls only (write, tcsetattr, sigaction).
#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>
#include <ncursesw/term.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "CTerminalRestore.h"

static struct termios saved_termios;
static int have_termios;
static char restore_seq[512];
static size_t restore_len;
static struct sigaction previous[NSIG];
static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
#define FATAL_COUNT (sizeof fatal_signals / sizeof fatal_signals[0])

int spt_terminal_usable(void) {
    int err = 0;
    if (setupterm(NULL, STDOUT_FILENO, &err) != OK) return -1;
    char *cup = tigetstr("cup");
    int ok = cup != NULL && cup != (char *)-1;
    del_curterm(cur_term);
    return ok;
}

void spt_save_terminal(void) { have_termios = tcgetattr(STDIN_FILENO, &saved_termios) == 0; }

static void append(const char *s, size_t n) {
    if (restore_len + n < sizeof restore_seq) { memcpy(restore_seq + restore_len, s, n); restore_len += n; }
}

static void append_cap(const char *name) {
    char *s = tigetstr((char *)name);
    if (s != NULL && s != (char *)-1) append(s, strlen(s));
}

static void on_fatal(int sig, siginfo_t *info, void *ctx) {
    (void)ctx;
    if (restore_len) { ssize_t w = write(STDOUT_FILENO, restore_seq, restore_len); (void)w; }
    if (have_termios) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
    // A real fault goes on to Swift's crash reporter (it recurs when this handler returns). A
    // signal sent by kill or raise gets the default action: the reporter would return from it
    // and leave the program running on a restored terminal.
    if (info == NULL || info->si_code <= 0) {
        signal(sig, SIG_DFL);
        raise(sig);
    } else {
        sigaction(sig, &previous[sig], NULL);
    }
}

void spt_install_crash_restore(void) {
    restore_len = 0;
    append_cap("sgr0"); append_cap("cnorm"); append_cap("rmkx"); append_cap("rmcup");
    append("\r\n", 2);
    for (size_t i = 0; i < FATAL_COUNT; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fatal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal_signals[i], &sa, &previous[fatal_signals[i]]);
    }
}

void spt_remove_crash_restore(void) {
    for (size_t i = 0; i < FATAL_COUNT; i++) sigaction(fatal_signals[i], &previous[fatal_signals[i]], NULL);
}
