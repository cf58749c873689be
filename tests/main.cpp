// doctest's main, with the rule of filter_guard.hpp: a --test-case filter that matches no case fails.
#define DOCTEST_CONFIG_IMPLEMENT
#include "filter_guard.hpp"

int main(int argc, char** argv) { return filter_guard::run(argc, argv); }
