"""The criteria side: trial files and concept sets read and validated (``schema``, ``concepts``),
compiled into immutable rule trees (``compiler``), their examples run (``examples``), linted
(``lint``), the bundled catalog (``bundled``) and trial sites (``sites``). It never imports the
patient side, apart from the example patients that trial files carry (``schema.Example``)."""
