// gbench_shim.cc — the only C++ file of the benchmarks: gbench_shim.h over Google Benchmark.
// Keep to the API that 1.7.1 and 1.8.3 share (see the header); in particular the Run record's
// error flag changed name between them, so skips are tracked on the C side, not read here.
#include "gbench_shim.h"

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <map>
#include <string>
#include <vector>

namespace {

std::map<std::string, void *> &users_by_name() {
    static std::map<std::string, void *> users;
    return users;
}

benchmark::State &S(gb_state *st) { return *reinterpret_cast<benchmark::State *>(st); }
benchmark::internal::Benchmark *B(gb_bench *b) {
    return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

// The console display plus a hand-off of every repetition to C.
class ForwardingReporter : public benchmark::ConsoleReporter {
  public:
    ForwardingReporter(gb_result_fn fn, void *ctx, OutputOptions opts)
        : benchmark::ConsoleReporter(opts), fn_(fn), ctx_(ctx) {}

    void ReportRuns(const std::vector<Run> &runs) override {
        benchmark::ConsoleReporter::ReportRuns(runs);
        if (!fn_) return;
        for (const Run &run : runs) {
            if (run.run_type != Run::RT_Iteration || run.iterations <= 0) continue;
            auto it = users_by_name().find(run.run_name.function_name);
            if (it == users_by_name().end()) continue;
            double per_iter = run.real_accumulated_time / static_cast<double>(run.iterations);
            fn_(ctx_, it->second, run.repetition_index, static_cast<int64_t>(run.iterations),
                per_iter);
        }
    }

  private:
    gb_result_fn fn_;
    void *ctx_;
};

}  // namespace

extern "C" {

void gb_initialize(int *argc, char **argv) { benchmark::Initialize(argc, argv); }

int gb_report_unrecognized(int argc, char **argv) {
    return benchmark::ReportUnrecognizedArguments(argc, argv) ? 1 : 0;
}

void gb_add_custom_context(const char *key, const char *value) {
    benchmark::AddCustomContext(key, value);
}

double gb_cpu_cycles_per_second(void) { return benchmark::CPUInfo::Get().cycles_per_second; }

gb_bench *gb_register(const char *name, gb_fn fn, void *user) {
    users_by_name()[name] = user;
    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
        name, [fn, user](benchmark::State &state) {
            fn(reinterpret_cast<gb_state *>(&state), user);
        });
    return reinterpret_cast<gb_bench *>(b);
}

void gb_min_time(gb_bench *b, double seconds) { B(b)->MinTime(seconds); }
void gb_repetitions(gb_bench *b, int n) { B(b)->Repetitions(n); }
void gb_use_real_time(gb_bench *b) { B(b)->UseRealTime(); }
void gb_use_manual_time(gb_bench *b) { B(b)->UseManualTime(); }
void gb_iterations(gb_bench *b, int64_t n) {
    B(b)->Iterations(static_cast<benchmark::IterationCount>(n));
}

void gb_loop(gb_state *st, gb_iter_fn fn, void *ctx) {
    for (auto _ : S(st)) fn(ctx);
}

int gb_keep_running(gb_state *st) { return S(st).KeepRunning() ? 1 : 0; }
void gb_set_iteration_time(gb_state *st, double seconds) { S(st).SetIterationTime(seconds); }
void gb_pause(gb_state *st) { S(st).PauseTiming(); }
void gb_resume(gb_state *st) { S(st).ResumeTiming(); }
void gb_skip_with_error(gb_state *st, const char *message) { S(st).SkipWithError(message); }

void gb_counter(gb_state *st, const char *name, double value) {
    S(st).counters[name] = benchmark::Counter(value);
}

void gb_counter_rate(gb_state *st, const char *name, double value_per_iteration) {
    S(st).counters[name] = benchmark::Counter(
        value_per_iteration, benchmark::Counter::kIsIterationInvariantRate);
}

void gb_label(gb_state *st, const char *label) { S(st).SetLabel(label); }

int64_t gb_run(gb_result_fn result_fn, void *result_ctx) {
    // colours only on a terminal: logs and tee'd output stay plain text
    ForwardingReporter reporter(result_fn, result_ctx,
                                isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_ColorTabular
                                                      : benchmark::ConsoleReporter::OO_Tabular);
    return static_cast<int64_t>(benchmark::RunSpecifiedBenchmarks(&reporter));
}

void gb_shutdown(void) { benchmark::Shutdown(); }

}  // extern "C"
