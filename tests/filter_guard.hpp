#pragma once
// One rule of ours for a doctest main: each CTest test and each case of the device check runs one case by name
// (--test-case=NAME), so a filter that matches no case fails instead of passing with nothing run (a ';' in a case's
// name once split it into two CTest tests that each ran nothing). Included by the one file that defines main.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

namespace filter_guard {

inline unsigned cases_matched = 0;

struct CountMatchedCases : doctest::IReporter {
  explicit CountMatchedCases(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override { cases_matched = stats.numTestCasesPassingFilters; }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
DOCTEST_REGISTER_LISTENER("count_matched_cases", 1, CountMatchedCases);

// Runs the suite; fails (1, and says which) when a --test-case filter matched no case.
inline int run(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int status = context.run();
  if (context.shouldExit() || status != 0) return status;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg.rfind("--test-case=", 0) == 0 || arg.rfind("-tc=", 0) == 0) && cases_matched == 0) {
      std::fprintf(stderr, "no test case matches %s\n", arg.c_str());
      return 1;
    }
  }
  return status;
}

}  // namespace filter_guard
