// libFuzzer target for what containers and upstream servers send berth-dns: every input goes
// through parse_message (with and without records), resolve() against a fixed set of records,
// and, as text, parse_records and resolv_conf_nameservers. Parsing must give a message or an
// EBADMSG error, never read out of bounds or loop; every reply resolve() builds must parse back
// with the query's id and question.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "fuzz_util.h"
#include "net/dns/message.h"
#include "net/dns/records.h"
#include "net/dns/resolver.h"

using berth::fuzz::expect;
using namespace berth::net::dns;

namespace {

const Records& records() {
    static const Records r = [] {
        auto p = parse_records(
            "0123456789ab0123\tweb,0123456789ab\t10.89.0.5,fd00::5\n"
            "feedfeedfeedfeed\tdb.one\t10.89.0.6\n");
        return p.ok() ? *p : Records{};
    }();
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> msg(data, size);
    for (bool with_records : {false, true}) {
        auto m = parse_message(msg, with_records);
        berth::fuzz::expect_clean_error(m, EBADMSG);
        if (m.ok()) {
            expect(m->questions_end <= size);
            for (const auto& rr : m->records) expect(rr.rdata_offset + rr.rdata_size <= size);
        }
    }

    Decision d = resolve(records(), msg);
    if (d.action == Action::reply) {
        auto q = parse_header(msg);
        auto r = parse_message(d.reply);
        expect(q.ok() && r.ok());
        expect(r->header.id == q->id && r->header.qr());
        auto parsed = parse_message(msg, false);
        if (parsed.ok() && parsed->questions.size() == 1 && r->header.qdcount == 1) {
            expect(r->questions.front().name == parsed->questions.front().name);
        }
    }
    auto err = error_reply(msg, kServFail);
    if (!err.empty()) expect(parse_message(err).ok());

    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto recs = parse_records(text);
    berth::fuzz::expect_clean_error(recs);
    if (recs.ok()) {
        auto again = parse_records(format_records(*recs));
        expect(again.ok() && format_records(*again) == format_records(*recs));
    }
    (void)resolv_conf_nameservers(text);
    return 0;
}
