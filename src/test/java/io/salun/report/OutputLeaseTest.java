package io.salun.report;

import io.salun.config.InvalidInputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The claim a run holds on its output folder: a second claim is refused while the first lives, a
 * released or dead holder's claim can be taken, and a holder that lost its claim finds out before
 * it publishes.
 */
class OutputLeaseTest {
    private static final Duration LONG = Duration.ofMinutes(10);
    private final Configuration conf = new Configuration();

    @TempDir
    java.nio.file.Path dir;

    private Path target() {
        return new Path(dir.resolve("out").toUri());
    }

    @Test
    void aSecondClaimIsRefusedNamingTheHolderUntilTheFirstIsReleased() {
        OutputLease first = OutputLease.acquire("output.dir", target(), "unlearn of Spark application app-1", LONG, conf);
        InvalidInputException refused = assertThrows(InvalidInputException.class,
                () -> OutputLease.acquire("output.dir", target(), "unlearn of Spark application app-2", LONG, conf));
        assertTrue(refused.getMessage().startsWith("output.dir: another run holds "), refused.getMessage());
        assertTrue(refused.getMessage().contains("app-1"), refused.getMessage());
        assertTrue(refused.getMessage().contains("pid " + ProcessHandle.current().pid()), refused.getMessage());
        assertDoesNotThrow(first::check);
        first.close();
        assertFalse(Files.exists(dir.resolve(".out.lease")), "a released lease stays behind");
        try (OutputLease second = OutputLease.acquire("output.dir", target(), "app-2", LONG, conf)) {
            assertDoesNotThrow(second::check);
        }
    }

    @Test
    void theLeaseOfAProcessThatEndedOnThisHostIsTakenOverAtOnce() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        assertTrue(gone.waitFor(30, TimeUnit.SECONDS));
        String host = java.net.InetAddress.getLocalHost().getHostName();
        Files.writeString(dir.resolve(".out.lease"), "{\"token\":\"dead\",\"run\":\"unlearn of a crashed driver\",\"host\":\""
                + host + "\",\"pid\":" + gone.pid() + ",\"since\":\"2026-01-01T00:00:00Z\"}");
        try (OutputLease lease = OutputLease.acquire("output.dir", target(), "rerun", LONG, conf)) {
            assertDoesNotThrow(lease::check);
            String now = Files.readString(dir.resolve(".out.lease"), StandardCharsets.UTF_8);
            assertFalse(now.contains("\"dead\""), now);
        }
    }

    @Test
    void aLeaseOfAnotherHostIsTakenOverOnlyOnceItIsOlderThanTheTimeout() throws Exception {
        java.nio.file.Path file = dir.resolve(".out.lease");
        Files.writeString(file, "{\"token\":\"far\",\"run\":\"unlearn elsewhere\",\"host\":\"another-host\",\"pid\":1,"
                + "\"since\":\"2026-01-01T00:00:00Z\"}");
        assertThrows(InvalidInputException.class, () -> OutputLease.acquire("output.dir", target(), "rerun", LONG, conf));
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 120_000));
        try (OutputLease lease = OutputLease.acquire("output.dir", target(), "rerun", Duration.ofSeconds(60), conf)) {
            assertDoesNotThrow(lease::check);
        }
    }

    @Test
    void aHolderWhoseLeaseWasTakenOverCannotPublish() throws Exception {
        OutputLease stalled = OutputLease.acquire("output.dir", target(), "stalled", LONG, conf);
        // another run decided it was dead and took over: its lease replaces ours
        Files.delete(dir.resolve(".out.lease"));
        OutputLease other = OutputLease.acquire("output.dir", target(), "other", LONG, conf);
        IllegalStateException lost = assertThrows(IllegalStateException.class, stalled::check);
        assertTrue(lost.getMessage().contains("lost its claim"), lost.getMessage());
        stalled.close();
        assertTrue(Files.exists(dir.resolve(".out.lease")), "closing the stalled run removed the other run's lease");
        assertDoesNotThrow(other::check);
        other.close();
    }

    @Test
    void theHolderRenewsItsLeaseWhileItRuns() throws Exception {
        java.nio.file.Path file = dir.resolve(".out.lease");
        try (OutputLease lease = OutputLease.acquire("output.dir", target(), "renewing", Duration.ofSeconds(2), conf)) {
            long first = Files.getLastModifiedTime(file).toMillis();
            Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(first - 60_000));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (Files.getLastModifiedTime(file).toMillis() < first && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(Files.getLastModifiedTime(file).toMillis() >= first, "the lease was not renewed within 30 s");
            // renewed, so a second run with the same short timeout still finds it held
            assertThrows(InvalidInputException.class,
                    () -> OutputLease.acquire("output.dir", target(), "second", Duration.ofSeconds(2), conf));
        }
    }

    @Test
    void theRefusalOfAnOutputThatIsAFileNamesTheSetting() throws Exception {
        Files.writeString(dir.resolve("plain-file"), "x");
        Path beside = new Path(dir.resolve("plain-file").resolve("out").toUri());
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> OutputDir.open(beside.toString(), false, "run", LONG, conf));
        assertTrue(e.getMessage().startsWith("output.dir: "), e.getMessage());
        assertTrue(e.getMessage().contains("is a file"), e.getMessage());
        assertEquals(1, Files.list(dir).count());
    }

    // the listed protocol of object stores, run here on the local file system

    @Test
    void onObjectStoresASecondClaimIsRefusedAndAReleasedLeaseLeavesNoClaim() throws Exception {
        OutputLease first = OutputLease.acquire("output.dir", target(), "app-1", LONG, conf, true);
        java.nio.file.Path folder = dir.resolve(".out.lease");
        assertEquals(2, claimFiles(folder), "a claim and its heartbeat");
        InvalidInputException refused = assertThrows(InvalidInputException.class,
                () -> OutputLease.acquire("output.dir", target(), "app-2", LONG, conf, true));
        assertTrue(refused.getMessage().contains("another run holds") && refused.getMessage().contains("app-1"),
                refused.getMessage());
        assertEquals(2, claimFiles(folder), "the refused run left a claim");
        assertDoesNotThrow(first::check);
        first.close();
        assertEquals(0, claimFiles(folder));
        OutputLease.acquire("output.dir", target(), "app-2", LONG, conf, true).close();
    }

    @Test
    void onObjectStoresTheClaimOfAProcessThatEndedIsRemovedAndTheLeaseTaken() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        assertTrue(gone.waitFor(30, TimeUnit.SECONDS));
        java.nio.file.Path folder = Files.createDirectories(dir.resolve(".out.lease"));
        Files.writeString(folder.resolve("claim-dead"), "{\"token\":\"dead\",\"run\":\"crashed\",\"host\":\""
                + java.net.InetAddress.getLocalHost().getHostName() + "\",\"pid\":" + gone.pid() + ",\"since\":\"x\"}");
        try (OutputLease lease = OutputLease.acquire("output.dir", target(), "rerun", LONG, conf, true)) {
            assertFalse(Files.exists(folder.resolve("claim-dead")));
            assertDoesNotThrow(lease::check);
        }
    }

    @Test
    void onObjectStoresAnOlderLiveClaimWins() throws Exception {
        // another live run's claim, written a minute ago and renewed now: ours is refused
        java.nio.file.Path folder = Files.createDirectories(dir.resolve(".out.lease"));
        Files.writeString(folder.resolve("claim-other"), "{\"token\":\"other\",\"run\":\"the other run\","
                + "\"host\":\"another-host\",\"pid\":1,\"since\":\"x\"}");
        Files.setLastModifiedTime(folder.resolve("claim-other"),
                java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        Files.writeString(folder.resolve("alive-other"), "now");
        InvalidInputException refused = assertThrows(InvalidInputException.class,
                () -> OutputLease.acquire("output.dir", target(), "late", LONG, conf, true));
        assertTrue(refused.getMessage().contains("the other run"), refused.getMessage());
        // its heartbeat stops: after the timeout its claim is removed and ours taken
        Files.setLastModifiedTime(folder.resolve("alive-other"),
                java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        try (OutputLease lease = OutputLease.acquire("output.dir", target(), "late", Duration.ofSeconds(30), conf, true)) {
            assertFalse(Files.exists(folder.resolve("claim-other")));
            assertDoesNotThrow(lease::check);
            Files.delete(folder.resolve("claim-" + claimToken(folder)));
            IllegalStateException lost = assertThrows(IllegalStateException.class, lease::check);
            assertTrue(lost.getMessage().contains("lost its claim"), lost.getMessage());
        }
    }

    /** Claims and heartbeats in a lease folder (not the local file system's .crc files). */
    private static long claimFiles(java.nio.file.Path folder) throws java.io.IOException {
        try (var files = Files.list(folder)) {
            return files.filter(f -> !f.getFileName().toString().startsWith(".")).count();
        }
    }

    private static String claimToken(java.nio.file.Path folder) throws java.io.IOException {
        try (var files = Files.list(folder)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("claim-")).findFirst()
                    .orElseThrow().substring("claim-".length());
        }
    }
}
