@testable import CNNEngine
import Foundation
import Testing

/// The engine's errors say what is wrong in the library's terms; the command line adds its flags.
@Suite struct LibraryErrorTermsTests {
    @Test func divergenceNamesEpochAndBatchWithoutFlags() {
        let error = NonFiniteLossError(epoch: 2, batch: 7)
        #expect(error.description == "training diverged: the loss became NaN or infinite in epoch 2, batch 7")
    }

    @Test func aFileWithoutArchitectureSaysSoAndAsksForOne() throws {
        let file = SafeTensors(tensors: ["weird.weight": Tensor(shape: [2, 2], repeating: 0)])
        do {
            _ = try Checkpoint.graph(of: file)
            Issue.record("a file with no architecture loaded")
        } catch let error as CheckpointError {
            #expect(error.needsArchitecture)
            #expect(error.description == "records no architecture ('cnnprune.graph' metadata) and its tensors match no known architecture")
        }
    }
}
