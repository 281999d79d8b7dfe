// relaytrust_hookd_tests: doctest runner. Suites that read the Stalwart fixtures are started
// by ctest with RELAYTRUST_NEEDS_FIXTURES=1 and report "skipped" (exit 77) when ../shared is
// not there, instead of failing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include "fixtures.h"

int main(int argc, char** argv) {
    if (std::getenv("RELAYTRUST_NEEDS_FIXTURES") &&
        !relaytrust::hookd::test::fixtures_available()) {
        std::printf(
            "SKIP: Stalwart fixtures not found at %s (expected ../shared next to the "
            "repository; set RELAYTRUST_SHARED_DIR to point elsewhere)\n",
            relaytrust::hookd::test::fixtures_dir().c_str());
        return 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
