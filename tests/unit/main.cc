// The Catch2 runner for the unit tests. Tags select a layer: [codec], [wire], [store].
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
