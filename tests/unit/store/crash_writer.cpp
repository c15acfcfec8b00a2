// store-crash-writer: the process the crash-durability test kills.
//
//   store-crash-writer write DIR BATCH_SIZE COMMITS_MAX
//       Appends keys 0, 1, 2, ... to table "data" in group commits of BATCH_SIZE puts, together
//       with the next key index in table "progress" (same transaction). After each commit
//       returns ok it prints "ack SEQUENCE END" (END = keys [0, END) acknowledged) and flushes,
//       which is the moment a node would answer its clients. Resumes where the store left off.
//   store-crash-writer check DIR ACK_FILE
//       Reopens DIR and checks: every acknowledged key is present with its value, the progress
//       record and the data agree (no torn batch: keys [0, progress) present, none beyond), and
//       the commit sequence is at least the last acknowledged one. Exit 0 when all hold.

#include <ainet/store/environment.hpp>
#include <ainet/store/write_batch.hpp>

#include <array>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace store = ainet::store;

namespace {

constexpr size_t value_size = 100;

std::array<uint8_t, 8> key_of(uint64_t index) {
    // Big-endian, so LMDB's byte order is numeric order and the check can scan.
    std::array<uint8_t, 8> key{};
    for (int i = 0; i < 8; ++i)
        key[static_cast<size_t>(i)] = static_cast<uint8_t>(index >> (56 - 8 * i));
    return key;
}

uint64_t index_of(ainet::bytes_view key) {
    uint64_t index = 0;
    for (uint8_t b : key)
        index = index << 8 | b;
    return index;
}

std::array<uint8_t, value_size> value_of(uint64_t index) {
    std::array<uint8_t, value_size> value{};
    for (size_t i = 0; i < value.size(); ++i)
        value[i] = static_cast<uint8_t>(index * 31 + i);
    return value;
}

const std::array<uint8_t, 4> progress_key{'n', 'e', 'x', 't'};

struct opened {
    store::environment env;
    store::table data;
    store::table progress;
};

opened open_or_die(const char* dir) {
    std::string text;
    auto env = store::environment::open(dir, store::options{}, &text);
    if (!env) {
        std::fprintf(stderr, "open %s: %s (%s)\n", dir, std::string(to_string(env.error())).c_str(),
                     text.c_str());
        std::exit(2);
    }
    auto data = env->open_table("data");
    auto progress = env->open_table("progress");
    if (!data || !progress) {
        std::fprintf(stderr, "open_table: %s\n", std::string(env->last_error()).c_str());
        std::exit(2);
    }
    return opened{std::move(env).value(), *data, *progress};
}

uint64_t stored_progress(opened& o) {
    auto txn = o.env.begin_read();
    if (!txn)
        std::exit(2);
    auto value = txn->get(o.progress, progress_key);
    if (!value)
        std::exit(2);
    if (!*value)
        return 0;
    ainet::byte_reader reader(**value);
    auto next = reader.u64();
    if (!next) {
        std::fprintf(stderr, "progress record malformed\n");
        std::exit(1);
    }
    return *next;
}

int write(const char* dir, uint64_t batch_size, uint64_t commits_max) {
    opened o = open_or_die(dir);
    uint64_t next = stored_progress(o);
    store::write_batch batch(o.env, store::batch_limits{.entry_count_max = batch_size + 1,
                                                        .byte_count_max = (batch_size + 1) * 128});
    for (uint64_t commit = 0; commit < commits_max; ++commit) {
        for (uint64_t i = 0; i < batch_size; ++i) {
            const auto key = key_of(next + i);
            const auto value = value_of(next + i);
            if (!batch.put(o.data, key, value))
                return 2;
        }
        next += batch_size;
        std::array<uint8_t, 8> encoded{};
        ainet::byte_writer writer(encoded);
        writer.u64(next);
        if (!batch.put(o.progress, progress_key, writer.written()))
            return 2;
        auto seq = batch.commit();
        if (!seq) {
            std::fprintf(stderr, "commit: %s\n", std::string(o.env.last_error()).c_str());
            return 2;
        }
        std::printf("ack %" PRIu64 " %" PRIu64 "\n", *seq, next);
        std::fflush(stdout);
    }
    return 0;
}

int check(const char* dir, const char* ack_file) {
    uint64_t acked_sequence = 0;
    uint64_t acked_end = 0;
    size_t ack_lines = 0;
    std::ifstream acks(ack_file);
    std::string line;
    while (std::getline(acks, line)) {
        uint64_t seq = 0;
        uint64_t end = 0;
        char tail = 0;
        // A line cut by the kill has no trailing newline and may be partial: getline still
        // returns it, but it was never acknowledged to anyone who read a whole line; sscanf
        // accepts only complete "ack N M" lines.
        if (std::sscanf(line.c_str(), "ack %" SCNu64 " %" SCNu64 "%c", &seq, &end, &tail) != 2)
            continue;
        ++ack_lines;
        acked_sequence = std::max(acked_sequence, seq);
        acked_end = std::max(acked_end, end);
    }

    opened o = open_or_die(dir);
    const uint64_t progress = stored_progress(o);
    int failures = 0;
    auto complain = [&](const char* what, uint64_t a, uint64_t b) {
        std::fprintf(stderr, "FAIL: %s (%" PRIu64 " vs %" PRIu64 ")\n", what, a, b);
        ++failures;
    };
    if (o.env.commit_sequence() < acked_sequence)
        complain("commit sequence below the last acknowledged one", o.env.commit_sequence(),
                 acked_sequence);
    if (progress < acked_end)
        complain("progress below the last acknowledged key", progress, acked_end);

    auto txn = o.env.begin_read();
    if (!txn)
        return 2;
    uint64_t expected = 0;
    auto visited = txn->scan_range(o.data, {}, {}, SIZE_MAX, [&](const store::entry& e) {
        const uint64_t index = index_of(e.key);
        if (index != expected) {
            complain("key missing or out of order", index, expected);
            return false;
        }
        const auto value = value_of(index);
        if (e.value.size() != value.size() ||
            std::memcmp(e.value.data(), value.data(), value.size()) != 0) {
            complain("wrong value", index, index);
            return false;
        }
        ++expected;
        return true;
    });
    if (!visited)
        return 2;
    if (expected != progress)
        complain("data and progress disagree (torn batch)", expected, progress);
    std::printf("check: %zu acks, acknowledged keys %" PRIu64 ", stored keys %" PRIu64
                ", acknowledged sequence %" PRIu64 ", stored sequence %" PRIu64 ": %s\n",
                ack_lines, acked_end, expected, acked_sequence, o.env.commit_sequence(),
                failures == 0 ? "ok" : "FAILED");
    return failures == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc == 5 && std::strcmp(argv[1], "write") == 0)
        return write(argv[2], std::strtoull(argv[3], nullptr, 10),
                     std::strtoull(argv[4], nullptr, 10));
    if (argc == 4 && std::strcmp(argv[1], "check") == 0)
        return check(argv[2], argv[3]);
    std::fprintf(stderr, "usage: %s write DIR BATCH_SIZE COMMITS_MAX | check DIR ACK_FILE\n",
                 argv[0]);
    return 2;
}
