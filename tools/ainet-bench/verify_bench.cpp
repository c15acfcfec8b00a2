// ainet-bench verify: Ed25519 verification throughput on one core, every contender in the same
// run (issue #7, "Performance"): libsodium 1.0.18's crypto_sign_verify_detached (the baseline,
// cofactorless), ainet's single verify (verify_raw) and ainet's batch verify (verify_batch) at
// each batch size. Signatures are honest, each by its own key over its own 64-byte message (a
// typical hello), so nothing is cached across signatures. Rates are signatures per second of
// this thread's CPU time (other load on the machine does not count against a contender); each
// row is the median of --repetitions timed runs, and the ratio column divides by libsodium's
// median from the same run. The same figures in Google Benchmark form: bench/bench_crypto.
//
//   ainet-bench verify [--sizes 1,4,8,16,32,64,128,256] [--seconds 0.5] [--repetitions 3]
//                      [--json]
#include "commands.hpp"

#include <ainet/crypto/ed25519.hpp>

#include "verify_impl.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace ainet::bench {

namespace {

struct options {
    std::vector<size_t> sizes{1, 4, 8, 16, 32, 64, 128, 256};
    double seconds = 0.5;
    unsigned repetitions = 3;
    bool json = false;
};

constexpr size_t corpus_size = 1024;

struct corpus {
    std::vector<std::vector<uint8_t>> messages;
    std::vector<crypto::verify_request> requests;
};

corpus make_corpus() {
    corpus out;
    out.messages.reserve(corpus_size);
    for (size_t i = 0; i < corpus_size; ++i) {
        crypto::seed s{};
        for (size_t b = 0; b < s.size(); ++b)
            s[b] = static_cast<uint8_t>(i * 31 + b * 7 + (i >> 8));
        const auto keys = crypto::key_pair::from_seed(s);
        std::vector<uint8_t> message(64);
        for (size_t b = 0; b < message.size(); ++b)
            message[b] = static_cast<uint8_t>(i + b * 13);
        out.messages.push_back(std::move(message));
        out.requests.push_back(
            {keys.public_key_bytes(), out.messages.back(), keys.sign_raw(out.messages.back())});
    }
    return out;
}

double thread_cpu_seconds() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct row {
    std::string name;
    size_t batch = 0; // 0: single verification
    double rate = 0;  // signatures per CPU second, median
    bool all_valid = true;
};

// Runs step (which verifies `per_step` signatures and returns whether all were accepted) until
// `seconds` of CPU time have passed, `repetitions` times; the median rate.
template <typename Step>
double measure(const options& o, size_t per_step, bool& all_valid, Step step) {
    std::vector<double> rates;
    for (unsigned rep = 0; rep < o.repetitions; ++rep) {
        uint64_t signatures = 0;
        const double start = thread_cpu_seconds();
        double elapsed = 0;
        do {
            for (int i = 0; i < 8; ++i) {
                all_valid = step() && all_valid;
                signatures += per_step;
            }
            elapsed = thread_cpu_seconds() - start;
        } while (elapsed < o.seconds);
        rates.push_back(static_cast<double>(signatures) / elapsed);
    }
    std::sort(rates.begin(), rates.end());
    return rates[rates.size() / 2];
}

int run(const options& o) {
    if (!crypto::init().has_value()) {
        std::cerr << "ainet-bench verify: libsodium could not initialise\n";
        return 1;
    }
    const corpus c = make_corpus();
    std::vector<row> rows;
    {
        row r{"libsodium single", 0};
        size_t i = 0;
        r.rate = measure(o, 1, r.all_valid, [&] {
            const auto& q = c.requests[i++ % corpus_size];
            return crypto::detail::libsodium_verify(q.key, q.message, q.sig);
        });
        rows.push_back(r);
    }
    {
        row r{"ainet single", 0};
        size_t i = 0;
        r.rate = measure(o, 1, r.all_valid, [&] {
            const auto& q = c.requests[i++ % corpus_size];
            return crypto::verify_raw(q.key, q.message, q.sig);
        });
        rows.push_back(r);
    }
    for (const size_t batch : o.sizes) {
        row r{"ainet batch", batch};
        std::unique_ptr<bool[]> verdicts(new bool[batch]);
        size_t first = 0;
        r.rate = measure(o, batch, r.all_valid, [&] {
            if (first + batch > corpus_size)
                first = 0;
            crypto::verify_batch(std::span(c.requests).subspan(first, batch),
                                 std::span<bool>(verdicts.get(), batch));
            first += batch;
            return std::all_of(verdicts.get(), verdicts.get() + batch, [](bool v) { return v; });
        });
        rows.push_back(r);
    }
    const double baseline = rows.front().rate;
    bool ok = true;
    if (o.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& r : rows)
            out.push_back({{"contender", r.name},
                           {"batch", r.batch},
                           {"signatures_per_second", r.rate},
                           {"x_libsodium", r.rate / baseline},
                           {"all_valid", r.all_valid}});
        std::cout << out.dump(2) << '\n';
    } else {
        std::printf("Ed25519 verify, one core, honest signatures, median of %u x %.2f CPU-s\n",
                    o.repetitions, o.seconds);
        std::printf("%-18s %6s %14s %12s\n", "contender", "batch", "sigs/s", "x libsodium");
        for (const auto& r : rows)
            std::printf("%-18s %6s %14.0f %12.2f%s\n", r.name.c_str(),
                        r.batch == 0 ? "-" : std::to_string(r.batch).c_str(), r.rate,
                        r.rate / baseline, r.all_valid ? "" : "  REJECTED AN HONEST SIGNATURE");
    }
    for (const auto& r : rows)
        ok = ok && r.all_valid;
    return ok ? 0 : 1;
}

} // namespace

std::function<int()> add_verify_command(CLI::App& app) {
    auto o = std::make_shared<options>();
    auto* cmd = app.add_subcommand("verify", "Ed25519 verification: libsodium vs ainet single and "
                                             "batch, one core, same run");
    cmd->add_option("--sizes", o->sizes, "batch sizes")
        ->delimiter(',')
        ->check(CLI::Range(size_t{1}, size_t{4096}));
    cmd->add_option("--seconds", o->seconds, "CPU seconds per timed run")
        ->check(CLI::Range(0.01, 60.0));
    cmd->add_option("--repetitions", o->repetitions, "timed runs per row (median reported)")
        ->check(CLI::Range(1u, 99u));
    cmd->add_flag("--json", o->json, "print JSON instead of a table");
    return [o] { return run(*o); };
}

} // namespace ainet::bench
