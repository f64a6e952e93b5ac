import CNNEngine
import Foundation

// Small constructors for the generated ONNX messages, so that the translation reads as the
// graph it builds rather than as field assignments.

extension Onnx_TensorProto {
    /// A float32 initializer named `name` holding `tensor`, its scalars as little-endian raw data.
    init(name: String, tensor: Tensor) {
        self.init()
        self.name = name
        dims = tensor.shape.map(Int64.init)
        dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var bytes = Data(capacity: tensor.scalars.count * 4)
        for scalar in tensor.scalars {
            withUnsafeBytes(of: scalar.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        rawData = bytes
    }
}

extension Onnx_AttributeProto {
    /// An `INT` attribute.
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = Int64(value)
        return attribute
    }

    /// An `INTS` attribute.
    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .ints
        attribute.ints = values.map(Int64.init)
        return attribute
    }

    /// A `FLOAT` attribute.
    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .float
        attribute.f = value
        return attribute
    }
}

extension Onnx_NodeProto {
    /// A node of the default (`ai.onnx`) domain.
    init(operator opType: String, name: String, inputs: [String], outputs: [String], attributes: [Onnx_AttributeProto] = []) {
        self.init()
        self.opType = opType
        self.name = name
        input = inputs
        output = outputs
        attribute = attributes
    }
}

/// One extent of a graph input's or output's shape.
enum ONNXDimension: Equatable, Sendable {
    /// A size fixed in the model (`dim_value`).
    case fixed(Int)
    /// A size chosen at run time, by name (`dim_param`, e.g. `batch`).
    case named(String)
}

extension Onnx_ValueInfoProto {
    /// A float32 tensor value of `shape`.
    init(floatTensorNamed name: String, shape: [ONNXDimension]) {
        self.init()
        self.name = name
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var tensorShape = Onnx_TensorShapeProto()
        tensorShape.dim = shape.map { extent in
            var dimension = Onnx_TensorShapeProto.Dimension()
            switch extent {
            case .fixed(let size): dimension.dimValue = Int64(size)
            case .named(let label): dimension.dimParam = label
            }
            return dimension
        }
        tensorType.shape = tensorShape
        var valueType = Onnx_TypeProto()
        valueType.tensorType = tensorType
        type = valueType
    }
}
