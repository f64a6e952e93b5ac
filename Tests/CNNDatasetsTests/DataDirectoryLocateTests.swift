import CNNDatasets
import Foundation
import Testing

/// Where a data folder is looked for, said in the library's terms (the command line names its flag).
@Suite struct DataDirectoryLocateTests {
    @Test func aGivenFolderWinsAndSaysSo() {
        let (url, origin) = DataDirectory.locate("/some/folder", dataset: .cifar10)
        #expect(url.path == "/some/folder")
        #expect(origin == .given)
        #expect(origin.description == "the given folder")
    }

    @Test func withoutAFolderTheDefaultOrTheEnvironmentAnswers() {
        let (url, origin) = DataDirectory.locate(nil, dataset: .mnist)
        if let value = ProcessInfo.processInfo.environment["MNIST_DIR"], !value.isEmpty {
            #expect(origin == .environment("MNIST_DIR") && origin.description == "$MNIST_DIR" && url.path == URL(fileURLWithPath: value).path)
        } else {
            #expect(origin == .defaultLocation && origin.description == "the default location")
            #expect(url.path == URL(fileURLWithPath: "data/mnist").path)
        }
        #expect(DataDirectory.locate("", dataset: .folder).origin == .defaultLocation)
    }
}
