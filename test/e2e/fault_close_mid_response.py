#!/usr/bin/env python3
"""e2e.fault_close_mid_response: receivers that cut the exchange short.
First a server that reads each request whole, sends half of a 200 response
and closes; then supervent-sink closing 30 % of connections right after the
request head (`close@30%`); then a healthy sink. superventd keeps running,
memory stays flat, requests cut off after being fully sent are counted as
ambiguous, nothing acknowledged is lost, and the rate recovers."""

import harness
from harness import check
import fault_common as fc


class HalfAnswer(fc.FaultServer):
    def serve(self, conn):
        while self.read_request(conn):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
                         b"{\"ingested\":")
            conn.shutdown(1)
            conn.close()
            return


def test(h):
    receiver = fc.Receiver(h)
    receiver.start_sink()
    daemon = fc.Daemon(h, receiver.url)
    daemon.warm_up()
    before = daemon.samples[-1][1]
    half = receiver.start_server(HalfAnswer)
    status = daemon.run_for(3.0, tag="half answers")
    check(half.accepted > 0, "the daemon never connected to the half-answering server")
    check(status["events_acked"] == before["events_acked"] or status["events_acked"] - before["events_acked"] <= 4 * fc.BATCH,
          f"a half response was taken as an answer: acked went from {before['events_acked']} to {status['events_acked']}")
    check(fc.ambiguous(status) > fc.ambiguous(before),
          f"requests fully sent and then cut off mid-response were not counted as ambiguous: {status}")
    receiver.start_sink("close@30%")
    status = daemon.run_for(4.0, tag="close@30%")
    check(receiver.sink.stats()["faults_injected"] > 0, "the sink injected no close")
    receiver.start_sink()
    fc.recover_and_finish(h, receiver, daemon)


if __name__ == "__main__":
    harness.main(test)
