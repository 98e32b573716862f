package io.salun.cluster;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Spark standalone cluster on this machine: a Master and Workers, each its own JVM, started
 * from the Spark jars Maven resolved (a {@code SPARK_HOME} whose {@code jars/} they fill), on free
 * loopback ports. {@link #close()} stops every process it started, whatever happened.
 */
final class StandaloneCluster implements AutoCloseable {
    private final Path sparkHome;
    private final List<String> opens;
    private final Path logs;
    private final List<Process> processes = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final int masterPort;
    private final int masterUiPort;

    StandaloneCluster(Path sparkHome, String opens, Path logs) throws IOException {
        this.sparkHome = sparkHome;
        this.opens = Arrays.asList(opens.trim().split("\\s+"));
        this.logs = Files.createDirectories(logs);
        this.masterPort = freePort();
        this.masterUiPort = freePort();
    }

    /**
     * The fault-free reference of a cluster run: {@code train} then {@code unlearn} in
     * {@code local[2]} in this JVM, with the same job arguments.
     */
    static void localReference(String name, java.util.function.Function<String, List<String>> jobArgs) {
        org.apache.spark.sql.SparkSession spark = io.salun.spark.LocalSpark.start(name);
        try {
            for (String command : List.of("train", "unlearn")) {
                List<String> args = new ArrayList<>(jobArgs.apply(command));
                args.add("--spark.master=local[2]");
                int code = io.salun.job.Main.run(args.toArray(String[]::new));
                if (code != 0) {
                    throw new IllegalStateException("the local reference's " + command + " exited with " + code);
                }
            }
        } finally {
            spark.stop();
        }
    }

    String masterUrl() {
        return "spark://127.0.0.1:" + masterPort;
    }

    /** Starts the Master and {@code workers} Workers of {@code coresEach} cores and waits until all registered. */
    void start(int workers, int coresEach, String memoryEach) throws Exception {
        processes.add(launch("master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                "--port", String.valueOf(masterPort), "--webui-port", String.valueOf(masterUiPort))));
        awaitPort(masterPort, 60);
        for (int w = 0; w < workers; w++) {
            Path work = Files.createDirectories(logs.resolve("worker-" + w));
            processes.add(launch("worker-" + w, List.of("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                    "--cores", String.valueOf(coresEach), "--memory", memoryEach, "--webui-port", "0",
                    "--work-dir", work.toString(), masterUrl())));
        }
        awaitWorkers(workers, 90);
    }

    /** Starts {@code SparkSubmit} (client mode: the driver is this process) against this cluster. */
    Process submitAsync(List<String> sparkArgs, String jar, List<String> jobArgs) throws IOException {
        List<String> args = new ArrayList<>(List.of("org.apache.spark.deploy.SparkSubmit", "--master", masterUrl(),
                "--deploy-mode", "client"));
        args.addAll(sparkArgs);
        args.add(jar);
        args.addAll(jobArgs);
        Process p = launch("submit", args);
        processes.add(p);
        return p;
    }

    /** The executor JVMs running now: the Workers' child processes. */
    List<ProcessHandle> executors() {
        List<ProcessHandle> out = new ArrayList<>();
        for (int i = 0; i < processes.size(); i++) {
            if (names.get(i).startsWith("worker-")) {
                processes.get(i).children().filter(ProcessHandle::isAlive).forEach(out::add);
            }
        }
        return out;
    }

    /** Runs {@code SparkSubmit} (client mode) against this cluster; returns its exit code. */
    int submit(List<String> sparkArgs, String jar, List<String> jobArgs, long timeoutSeconds) throws Exception {
        Process p = submitAsync(sparkArgs, jar, jobArgs);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("spark-submit did not finish in " + timeoutSeconds + " s; its log ends:\n"
                    + tail(log("submit"), 40));
        }
        return p.exitValue();
    }

    Path log(String name) {
        return logs.resolve(name + ".log");
    }

    private Process launch(String name, List<String> mainAndArgs) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(opens);
        command.add("-Xmx1g");
        command.add("-cp");
        command.add(sparkHome.resolve("jars") + File.separator + "*");
        command.addAll(mainAndArgs);
        names.add(name);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log(name).toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_SCALA_VERSION", "2.12");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("OMP_NUM_THREADS", "1");
        return pb.start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void awaitPort(int port, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException notYet) {
                checkAlive();
                TimeUnit.MILLISECONDS.sleep(200);
            }
        }
        throw new IllegalStateException("the Spark master did not open port " + port + " in " + seconds + " s; see " + log("master"));
    }

    /** Polls the master's JSON status until {@code workers} workers are ALIVE. */
    private void awaitWorkers(int workers, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        String status = "";
        while (System.nanoTime() < deadline) {
            checkAlive();
            try {
                HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + masterUiPort + "/json/").openConnection();
                c.setConnectTimeout(1000);
                c.setReadTimeout(2000);
                try (InputStream in = c.getInputStream()) {
                    status = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                if (countAlive(status) >= workers) {
                    return;
                }
            } catch (IOException notYet) {
                // the UI is not up yet
            }
            TimeUnit.MILLISECONDS.sleep(300);
        }
        throw new IllegalStateException(workers + " workers did not register in " + seconds + " s; master says " + status);
    }

    private static int countAlive(String json) {
        int n = 0;
        for (int i = json.indexOf("\"state\" : \"ALIVE\""); i >= 0; i = json.indexOf("\"state\" : \"ALIVE\"", i + 1)) {
            n++;
        }
        return n;
    }

    private void checkAlive() {
        for (int i = 0; i < processes.size(); i++) {
            Process p = processes.get(i);
            if (!p.isAlive() && p.exitValue() != 0) {
                throw new IllegalStateException("cluster process " + names.get(i) + " exited with " + p.exitValue()
                        + "; its log ends:\n" + tail(log(names.get(i)), 30));
            }
        }
    }

    /** The last {@code lines} lines of a log, for failure messages (the temp folder goes with the test). */
    String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        for (int i = processes.size() - 1; i >= 0; i--) {
            Process p = processes.get(i);
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
    }
}
