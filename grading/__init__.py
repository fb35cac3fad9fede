"""The trusted grader of the graded assignments (instructors only; students never import it).

    python -m grading a2_deconvnet submissions/ --seed-file ~/.grading-seed --lms canvas

* :mod:`grading.intake` -- every hand-in of a folder, whatever its form, with its student id;
* :mod:`grading.tests` -- the hidden tests: inputs from the seed, references computed here;
* :mod:`grading.sandbox` -- bubblewrap around the student's code, with limits;
* :mod:`grading.runner` -- what runs inside the sandbox (untrusted, computes only);
* :mod:`grading.grade` -- the comparison and the grades CSV;
* :mod:`grading.gradescope` -- the Gradescope autograder zip, grading the same way.

``book/assignments.md`` explains what this protects against, and what it does not.
"""
