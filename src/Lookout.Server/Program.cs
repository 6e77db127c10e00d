using Lookout.Server;

var app = LookoutServer.Build(args);
await app.RunAsync();
