using System.Reflection;
using Spectre.Console.Cli;

namespace Lookout.Cli.Infrastructure;

/// <summary>
/// The smallest container Spectre.Console.Cli needs: registered instances and types, constructor injection
/// of registered services. (No Microsoft.Extensions.DependencyInjection for four commands.)
/// </summary>
internal sealed class TypeRegistrar : ITypeRegistrar
{
    private readonly Dictionary<Type, Func<TypeResolver, object>> _factories = [];

    public void Register(Type service, Type implementation) => _factories[service] = r => r.Create(implementation);
    public void RegisterInstance(Type service, object implementation) => _factories[service] = _ => implementation;
    public void RegisterLazy(Type service, Func<object> factory)
    {
        var lazy = new Lazy<object>(factory);
        _factories[service] = _ => lazy.Value;
    }

    public ITypeResolver Build() => new TypeResolver(_factories);

    internal sealed class TypeResolver(Dictionary<Type, Func<TypeResolver, object>> factories) : ITypeResolver
    {
        public object? Resolve(Type? type)
        {
            if (type is null) return null;
            if (factories.TryGetValue(type, out var factory)) return factory(this);
            return type.IsAbstract || type.IsInterface ? null : Create(type);
        }

        public object Create(Type type)
        {
            var ctor = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance)
                .OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
                ?? throw new InvalidOperationException($"{type} has no public constructor.");
            var args = ctor.GetParameters()
                .Select(p => Resolve(p.ParameterType) ?? throw new InvalidOperationException($"Cannot resolve {p.ParameterType} for {type}."))
                .ToArray();
            return ctor.Invoke(args);
        }
    }
}
