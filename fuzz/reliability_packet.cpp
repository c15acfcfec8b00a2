// Fuzzes the reliable packet decoder: any input decodes or fails cleanly, and a datagram whose
// frames all decode re-encodes to exactly its own bytes (one encoding per packet).
#include <ainet/reliability/packet.hpp>
#include <ainet/wire/header.hpp>

#include <cstdlib>
#include <cstring>
#include <vector>

using namespace ainet;
using namespace ainet::reliability;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const bytes_view input(data, size);
    auto view = decode_reliable_datagram(input);
    if (!view)
        return 0;
    std::vector<frame> frames;
    frame_reader reader(view->frames);
    while (!reader.at_end()) {
        auto f = reader.next();
        if (!f)
            return 0;
        frames.push_back(*f);
    }
    std::vector<uint8_t> out(size);
    packet_writer writer(out, view->head);
    for (const frame& f : frames) {
        bool added = false;
        switch (f.type) {
        case frame_type::data:
            added = writer.add_data(f.data);
            break;
        case frame_type::ack:
            added = writer.add_ack(f.ack);
            break;
        case frame_type::nack:
            added = writer.add_nack(f.nack);
            break;
        }
        if (!added)
            std::abort(); // re-encoding a decoded packet can never need more room
    }
    const size_t written = writer.finish();
    if (written != size || std::memcmp(out.data(), data, size) != 0)
        std::abort();
    return 0;
}
