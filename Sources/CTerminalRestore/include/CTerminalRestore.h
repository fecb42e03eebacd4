#pragma once
#include <stddef.h>

// Before curses starts: can this terminal draw, and how to undo drawing after a crash.

// 1: usable; 0: the terminal type cannot move the cursor (e.g. dumb); -1: not in terminfo.
int spt_terminal_usable(void);
// Before initscr: saves the terminal's modes.
void spt_save_terminal(void);
// After initscr: records the sequences that leave curses' screen modes and installs a handler
// for fatal signals that writes them and restores the saved modes before the crash is reported.
void spt_install_crash_restore(void);
// After endwin: the previous handlers again.
void spt_remove_crash_restore(void);
