namespace Lookout.Detection.Darknet;

public enum DarknetActivation
{
    Linear,
    Leaky,
    Relu,
    Mish,
    Swish,
    Logistic,
}
