"""A Windows PowerShell 5.1 interpreter for the part of the language the project's scripts use.

It exists so that a simulated node runs the real `providers/bootstrap.ps1`, `providers/library.ps1` and
`providers/scripts/*.ps1`, with 5.1's semantics, instead of a Python twin of each script. docs/powershell.md
is the guide; this is the map.

Pipeline of a script
    text -> `syntax` (tree-sitter-powershell 0.26.4; PowerShell's parse-error wording)
         -> `compiler` (the concrete tree to `ast` nodes, cached by text; a construct it does not know
            raises `UnsupportedConstruct` naming it and its line: nothing is ignored)
         -> `interpreter.Interpreter` (one runspace: scopes, statements, pipelines, functions, errors)
         -> `processors` (one per command in a pipeline: cmdlet, function/script block, executable)

Values (`values`): $null is None, strings are str (in UTF-16 code units, as .NET holds them), Int32/Int64
are int, arrays are lists, hashtables `Hashtable` (case-insensitive keys), `[ordered]` `OrderedHashtable`,
`[pscustomobject]` `PSCustomObject`; any other .NET object is a `DotNetObject` that lists the members a
script may use. `types` holds conversions (LanguagePrimitives), `operators` the operators, `members`
property and method access (StrictMode, member enumeration, MethodInvocationException wrapping),
`dotnet` the static types scripts call ([Convert], [IO.File], [regex], DPAPI, InvokeMember, the parser's
AST for the bootstrap, ...), `jsonconv` ConvertTo/From-Json as 5.1, `clixml` PSSerializer.

The host protocol (`machine.Machine`): everything the interpreter needs from the computer it runs on
(files, registry, environment, cmdlets beyond the language's own, executables, COM classes, assemblies,
DPAPI, the clock, sleep, GUIDs, the session's identity). The interpreter never imports the simulated
world; the world implements `Machine` for each node. `memory` has in-memory `FileSystem`/`Registry`.

The cmdlet framework (`cmdlets`, `binder`): a cmdlet is a `Cmdlet` subclass with a `CommandSignature`
(parameter sets, mandatory, positions, pipeline by value and by property name, aliases, ValidateSet,
types); every invocation binds exactly as PowerShell binds, with PowerShell's refusals. `catalogue`
turns catalogue/*.json (FailoverClusters: the real module's signatures, types and enums) into
signatures every FailoverClusters cmdlet binds by, and into typed objects with exactly the real
properties. `core_cmdlets` and `items` are the cmdlets that are language (Where-Object, ConvertTo-Json,
Test-Path, Get-ItemProperty, ...).

Entry points: `engine.run_process(machine, text, stdin)` is powershell.exe -Command/-EncodedCommand;
`engine.run_file(machine, text, arguments)` is powershell.exe -File. simulator/shell/interpreted.py is
the seam through which a simulated node runs powershell.exe in this interpreter.
"""
