// The end of bench.js's flows: a node that counts the messages it receives and, at its `expect`-th,
// calls the function bench.js put in the global context (`functionGlobalContext.flowdeskBenchDone`)
// with its own id, then counts again from zero. It sends nothing on, so it costs one delivery per
// message and a counter, like the no-op nodes before it.
module.exports = function (RED) {
    "use strict";
    function BenchSinkNode(config) {
        RED.nodes.createNode(this, config);
        const node = this;
        const expect = Number(config.expect) || 1;
        const done = node.context().global.get("flowdeskBenchDone");
        let seen = 0;
        node.on("input", function (msg, send, finished) {
            seen += 1;
            if (seen === expect) {
                seen = 0;
                done(node.id);
            }
            finished();
        });
    }
    RED.nodes.registerType("flowdesk-bench-sink", BenchSinkNode);
};
