// Interned strings the engine uses whose names are not plain identifiers.
Q(<agent>)
Q(<prelude>)
