#pragma once
#include <stddef.h>
#include <stdint.h>

// Runs libFuzzer's driver with a test function: the fuzz targets are SwiftPM executables, whose
// own main calls this (libFuzzer's main is then not linked).
int spt_fuzz_main(int argc, char **argv, int (*test)(const uint8_t *data, size_t size));
