@testable import CNNEngine
import Foundation
import Testing

/// Output paths: links followed and kept, special files refused, temporary files unpredictable
/// and created without following links, stale ones removed, folders locked.
@Suite struct OutputFileTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnnprune-output-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    private func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    @Test func aSymbolicLinkIsFollowedAndStaysALink() throws {
        let target = directory.appendingPathComponent("target.bin"), link = directory.appendingPathComponent("link.bin")
        try Data("old".utf8).write(to: target)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "target.bin")
        try AtomicFile.write(Data("new".utf8), to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "target.bin")
        #expect(try Data(contentsOf: target) == Data("new".utf8))
        // A dangling link: the file it names is created.
        let dangling = directory.appendingPathComponent("dangling.bin")
        try FileManager.default.createSymbolicLink(atPath: dangling.path, withDestinationPath: "made.bin")
        try AtomicFile.write(Data("made".utf8), to: dangling)
        #expect(try Data(contentsOf: directory.appendingPathComponent("made.bin")) == Data("made".utf8))
        #expect(try contents() == ["dangling.bin", "link.bin", "made.bin", "target.bin"])
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func specialFilesAndFoldersAreRefusedNotReplaced() throws {
        let fifo = directory.appendingPathComponent("fifo")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        let folder = directory.appendingPathComponent("folder")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        let link = directory.appendingPathComponent("to-null")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "/dev/null")
        for (url, words) in [(fifo, "a FIFO"), (folder, "a folder"), (URL(fileURLWithPath: "/dev/null"), "a character device"), (link, "a character device")] {
            do {
                try AtomicFile.write(Data("x".utf8), to: url)
                Issue.record("\(url.path) was written")
            } catch let error as AtomicFileError {
                #expect(error.reason.contains(words), "\(error.reason)")
            }
        }
        var info = stat()
        #expect(lstat(fifo.path, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
        #expect(lstat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
        #expect(try contents() == ["fifo", "folder", "to-null"], "nothing left behind")
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func aLinkLoopIsNamed() throws {
        let a = directory.appendingPathComponent("a"), b = directory.appendingPathComponent("b")
        try FileManager.default.createSymbolicLink(atPath: a.path, withDestinationPath: "b")
        try FileManager.default.createSymbolicLink(atPath: b.path, withDestinationPath: "a")
        #expect { try OutputPath.resolve(a) } throws: { ($0 as? AtomicFileError)?.reason.contains("symbolic links") == true }
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func sameFileSeesThroughLinksAndDots() throws {
        let file = directory.appendingPathComponent("m.safetensors")
        try Data().write(to: file)
        let link = directory.appendingPathComponent("alias.safetensors")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "m.safetensors")
        #expect(OutputPath.sameFile(file, link))
        #expect(OutputPath.sameFile(file, directory.appendingPathComponent("./x/../m.safetensors")))
        #expect(!OutputPath.sameFile(file, directory.appendingPathComponent("other.safetensors")))
        try? FileManager.default.removeItem(at: directory)
    }

    /// A link planted under the old, predictable name (`.NAME.PID.tmp`) is neither followed nor
    /// removed: the temporary file has another, random name.
    @Test func plantedLinksAreNotFollowed() throws {
        let victim = directory.appendingPathComponent("victim.txt")
        try Data("precious".utf8).write(to: victim)
        let planted = directory.appendingPathComponent(".out.bin.\(getpid()).tmp")
        try FileManager.default.createSymbolicLink(atPath: planted.path, withDestinationPath: victim.path)
        try AtomicFile.write(Data("model".utf8), to: directory.appendingPathComponent("out.bin"))
        #expect(try Data(contentsOf: victim) == Data("precious".utf8))
        #expect(try Data(contentsOf: directory.appendingPathComponent("out.bin")) == Data("model".utf8))
        #expect(try contents() == [".out.bin.\(getpid()).tmp", "out.bin", "victim.txt"])
        #expect(TemporaryFiles.listed.isEmpty, "no temporary file stays listed for the signal handler")
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func staleTemporaryFilesOfDeadProcessesAreRemoved() throws {
        let pidMax = (try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 4_194_304
        let dead = pidMax + 1
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, 255)
        let host = String(String(cString: buffer).split(separator: ".").first ?? "host").unicodeScalars
            .filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII }.map(String.init).joined().prefix(32)
        let stale = ".out.bin.cnnprune-\(host.isEmpty ? "host" : String(host))-\(dead)-AAAAAAAAAAAAAAAA.tmp"
        let live = ".out.bin.cnnprune-\(host.isEmpty ? "host" : String(host))-1-BBBBBBBBBBBBBBBB.tmp"
        let foreign = ".out.bin.cnnprune-elsewhere-\(dead)-CCCCCCCCCCCCCCCC.tmp"
        for name in [stale, live, foreign] { try Data("half".utf8).write(to: directory.appendingPathComponent(name)) }
        try AtomicFile.write(Data("model".utf8), to: directory.appendingPathComponent("out.bin"))
        #expect(try contents() == [live, foreign, "out.bin"].sorted(), "only the dead process's file on this host goes")
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func aLockedFolderRefusesASecondRun() throws {
        let folder = directory.appendingPathComponent("runs/sweep")
        do {
            let first = try OutputDirectoryLock(folder)
            #expect { try OutputDirectoryLock(folder) } throws: { ($0 as? AtomicFileError)?.reason.contains("another cnnprune run") == true }
            withExtendedLifetime(first) {}
        }
        _ = try OutputDirectoryLock(folder)   // released with the first
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func anUnusedLockLeavesNoFolder() throws {
        let folder = directory.appendingPathComponent("never-written")
        do { _ = try OutputDirectoryLock(folder) }
        #expect(!FileManager.default.fileExists(atPath: folder.path))
        let used = directory.appendingPathComponent("written")
        do {
            let lock = try OutputDirectoryLock(used)
            try AtomicFile.write(Data("x".utf8), to: used.appendingPathComponent("sweep.json"))
            withExtendedLifetime(lock) {}
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: used.path) == ["sweep.json"], "the lock adds no file")
        try? FileManager.default.removeItem(at: directory)
    }
}
