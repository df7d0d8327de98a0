// tests/browser/main.cpp — the Catch2 v2 entry point for the real-Chromium tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
