package io.backflow.job;

import io.backflow.job.cli.Args;
import io.backflow.job.cli.HistoryCommand;
import io.backflow.job.cli.PreviewCommand;
import io.backflow.job.cli.StopCommand;
import io.backflow.job.cli.SyncCommand;
import io.backflow.job.config.ConfigException;
import io.backflow.job.config.ConfigLoader;
import io.backflow.job.config.ConnectionConfig;
import io.backflow.job.demo.DemoCommand;
import io.backflow.ledger.LedgerException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * Backflow's command line, the same under {@code java -jar backflow.jar} (an embedded Flink
 * MiniCluster) and {@code flink run backflow.jar} (the job goes to the cluster).
 */
public final class Main {
    static final String USAGE = String.join("\n",
            "usage: backflow <command> [options]",
            "  sync     --connection FILE [--full-resync] [--continuous] [--web-ui[=[HOST:]PORT]] [--prometheus[=PORT]]   run one sync (exit 0 done, 1 failed,"
                    + " 2 bad input, 3 stopped, 4 some rows failed); --continuous: one long-running job that starts a run at every tick of the file's"
                    + " schedule: {every: ...} until stopped; --web-ui: the Flink dashboard on 127.0.0.1:8081 or where given",
            "  stop     --connection FILE [--drain]         stop its running sync with a savepoint (--drain: deliver what was read first)",
            "  disable  --connection FILE                   switch a connection off, draining its running sync",
            "  enable   --connection FILE                   switch it back on",
            "  history  --connection FILE [--json] [--limit N]   list its sync runs, newest first",
            "  history  --connection FILE --run ID [--failed] [--json] [--limit N]   a run's row log (diff: every row; cursor: rows not delivered)",
            "  preview  --connection FILE [--limit N]       print the events the first N rows become; sends nothing",
            "  serve    --connections DIR [--listen HOST:PORT] [--max-parallel N] [--web-ui[=[HOST:]PORT]] [--prometheus[=PORT]]   run every connection of DIR"
                    + " on its schedule, with a JSON API and one Flink dashboard for all its syncs",
            "  demo     [--dir DIR]                         a complete demo on an embedded DuckDB warehouse",
            "  receive  --file FILE [--port N] [--host H]   a test destination that appends every event it gets to FILE");

    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && (args[0].equals("sync") || args[0].equals("serve"))) {
            SyncCommand.handleSignals();
        }
        // UTF-8 whatever the locale: a LANG=C terminal printed non-ASCII names as '?'.
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, java.nio.charset.StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true, java.nio.charset.StandardCharsets.UTF_8);
        System.setOut(out);
        System.setErr(err);
        int code = run(args, out, err);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Runs one command and returns the process exit code: 0 done, 1 the sync failed, 2 bad input. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            (args.length == 0 ? err : out).println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        try {
            switch (args[0]) {
                case "sync": {
                    Args a = Args.parse(args, Set.of("--connection"), Set.of("--full-resync", "--continuous"), Set.of("--web-ui", "--prometheus"));
                    ConnectionConfig config = load(a);
                    org.apache.flink.configuration.Configuration flink = new org.apache.flink.configuration.Configuration();
                    if (a.value("--web-ui") != null) {
                        flink = SyncCommand.webUi(a.value("--web-ui").isEmpty() ? "8081" : a.value("--web-ui"));
                        out.println("Flink dashboard: http://" + flink.get(org.apache.flink.configuration.RestOptions.ADDRESS) + ":"
                                + flink.get(org.apache.flink.configuration.RestOptions.PORT) + " (while the sync runs)");
                    }
                    flink.addAll(prometheus(a));
                    return SyncCommand.run(config, a.flag("--full-resync"), a.flag("--continuous"), out, runId -> {}, flink);
                }
                case "stop": {
                    Args a = Args.parse(args, Set.of("--connection"), Set.of("--drain"));
                    return StopCommand.stop(load(a), a.flag("--drain"), out);
                }
                case "disable": {
                    Args a = Args.parse(args, Set.of("--connection"), Set.of());
                    return StopCommand.disable(load(a), out);
                }
                case "enable": {
                    Args a = Args.parse(args, Set.of("--connection"), Set.of());
                    return StopCommand.enable(load(a), out);
                }
                case "history": {
                    Args a = Args.parse(args, Set.of("--connection", "--limit", "--run"), Set.of("--json", "--failed"));
                    if (a.value("--run") != null) {
                        return HistoryCommand.runRows(load(a), a.value("--run"), a.flag("--failed"), a.flag("--json"), a.intValue("--limit", 1000, 1, Integer.MAX_VALUE), out);
                    }
                    return HistoryCommand.run(load(a), a.flag("--json"), a.intValue("--limit", 50, 1, Integer.MAX_VALUE), out);
                }
                case "preview": {
                    Args a = Args.parse(args, Set.of("--connection", "--limit"), Set.of());
                    return PreviewCommand.run(load(a), a.intValue("--limit", 5, 1, Integer.MAX_VALUE), out);
                }
                case "serve": {
                    Args a = Args.parse(args, Set.of("--connections", "--listen", "--max-parallel"), Set.of(), Set.of("--web-ui", "--prometheus"));
                    String webUi = a.value("--web-ui") == null ? "127.0.0.1:0" : a.value("--web-ui").isEmpty() ? "8081" : a.value("--web-ui");
                    org.apache.flink.configuration.Configuration flink = SyncCommand.webUi(webUi);
                    flink.addAll(prometheus(a));
                    return io.backflow.job.serve.ServeCommand.run(Path.of(a.required("--connections")),
                            a.value("--listen") == null ? "127.0.0.1:8090" : a.value("--listen"), a.intValue("--max-parallel", 2, 1, 64),
                            System.getenv(io.backflow.job.serve.ServeCommand.TOKEN_ENV), flink, out);
                }
                case "demo": {
                    Args a = Args.parse(args, Set.of("--dir"), Set.of());
                    return DemoCommand.run(Path.of(a.value("--dir") == null ? "demo-output" : a.value("--dir")), out);
                }
                case "receive": {
                    Args a = Args.parse(args, Set.of("--file", "--port", "--host"), Set.of());
                    return DemoCommand.receive(Path.of(a.required("--file")), a.value("--host") == null ? "0.0.0.0" : a.value("--host"),
                            a.intValue("--port", 8080, 0, 65_535), out);
                }
                default:
                    err.println("backflow: unknown command '" + args[0] + "'\n" + USAGE);
                    return 2;
            }
        } catch (Args.UsageException e) {
            err.println("backflow " + e.getMessage() + " (backflow --help lists the commands and options)");
            return 2;
        } catch (BadInputException e) {
            err.println("backflow: " + e.getMessage());
            return 2;
        } catch (ConfigException e) {
            err.println("backflow: " + e.getMessage());
            return 2;
        } catch (LedgerException e) {
            err.println("backflow: " + e.getMessage());
            return 1;
        } catch (SyncFailedException e) {
            err.println("backflow: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            // A bug or a failure nobody foresaw: one line for the terminal, the trace for the log.
            LoggerFactory.getLogger(Main.class).error("backflow {} failed", args[0], e);
            err.println("backflow: internal error in " + args[0] + ": " + io.backflow.job.cli.SyncCommand.rootMessage(e) + "; details in the log");
            return 1;
        }
    }

    /** {@code --prometheus[=PORT]}: Flink's Prometheus reporter, on 9249 unless given. */
    private static org.apache.flink.configuration.Configuration prometheus(Args a) {
        String port = a.value("--prometheus");
        return port == null ? new org.apache.flink.configuration.Configuration() : SyncCommand.prometheus(port.isEmpty() ? "9249" : port);
    }

    private static ConnectionConfig load(Args a) {
        return new ConfigLoader().load(Path.of(a.required("--connection")));
    }
}
